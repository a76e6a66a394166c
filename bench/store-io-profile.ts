/**
 * Where the store's time goes: runs one store contender's workload over file devices
 * wrapped in counters and prints, per transaction, the device flushes, writes and writev
 * blocks (both disks together), the mean flush latency, and the CPU the process used.
 * Not part of `npm run bench`; for looking into a figure the benchmark reports.
 *
 *   npx tsx bench/store-io-profile.ts CLIENTS BLOCKS_PER_TX     (e.g. 16 1)
 */
import { performance } from 'node:perf_hooks';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { Scratch } from './tmp.ts';
import { payload, stripes, txAddresses } from './workload.ts';
import type { BlockDevice } from '../src/device/block-device.ts';

const clients = Number(process.argv[2] ?? 1), k = Number(process.argv[3] ?? 1);
const s = new Scratch();
const stats = { write: 0, writev: 0, writevBlocks: 0, flush: 0, flushMs: 0, read: 0 };
function counted(d: FileBlockDevice): BlockDevice {
  return new Proxy(d, { get(t, p, r) {
    const v = Reflect.get(t, p, t);
    if (typeof v !== 'function') return v;
    if (p === 'write') return (a: number, b: Uint8Array) => { stats.write++; return v.call(t, a, b); };
    if (p === 'writev') return (a: number, bs: Uint8Array[]) => { stats.writev++; stats.writevBlocks += bs.length; return v.call(t, a, bs); };
    if (p === 'read') return (a: number) => { stats.read++; return v.call(t, a); };
    if (p === 'flush') return async () => { stats.flush++; const t0 = performance.now(); await v.call(t); stats.flushMs += performance.now() - t0; };
    return v.bind(t);
  }}) as BlockDevice;
}
const logBlocks = Math.max(1024, k * clients * 4), data = 4096;
const storeId = 'ab'.repeat(16);
const mk = (i: 0 | 1) => FileBlockDevice.create(s.path(`d${i}`), { numBlocks: 3 + logBlocks + data, label: { storeId, index: i } });
const d0 = await mk(0), d1 = await mk(1);
const store = await openStore({ devices: [counted(d0), counted(d1)], numBlocks: data, logBlocks });
const st = stripes(clients, data);
for (let a = 0; a < data; a += 32) await store.transaction((tx) => { for (let i = a; i < a + 32; i++) tx.write(i, new Uint8Array(4096)); });
for (const key of Object.keys(stats)) (stats as any)[key] = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now(); let n = 0;
await Promise.all(Array.from({ length: clients }, async (_, c) => {
  for (let seq = 0; performance.now() - t0 < 3000; seq++) {
    const addrs = txAddresses(st, c, seq, k);
    await store.transaction((tx) => { addrs.forEach((a, i) => tx.write(a, payload(c, seq, i))); });
    n++;
  }
}));
const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log(`clients ${clients} k ${k}: ${(n * 1000 / ms).toFixed(0)} tx/s; per tx: flush ${(stats.flush / n).toFixed(2)} (device-level, both disks), write ${(stats.write / n).toFixed(2)}, writev ${(stats.writev / n).toFixed(2)} (${(stats.writevBlocks / n).toFixed(1)} blocks), read ${(stats.read / n).toFixed(2)}; mean flush ${(stats.flushMs / stats.flush).toFixed(3)} ms; CPU user+sys ${((cpu.user + cpu.system) / 1000 / ms * 100).toFixed(0)}% of one core`);
await store.close(); s.remove();
