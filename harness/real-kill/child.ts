/**
 * The real-kill child: runs FILE_WORKLOAD on the whole stack over two FileBlockDevices and
 * kills itself with SIGKILL at write point k (no cleanup, no flush, no exit handlers).
 * Before each write point it appends its history so far to a side file and fsyncs it, so
 * the parent knows every call made and every return seen before the kill.
 *
 * usage: node --import tsx harness/real-kill/child.ts <dir> <k>   (k = 0: run to the end, print the point count)
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileBlockDevice } from '../../src/device/file-block-device.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import { formatLog } from '../../src/wal/log-format.ts';
import { LogDisk } from '../../src/wal/log-disk.ts';
import { runTxOp } from '../targets/transactional.ts';
import { CountingDevice } from './counting-device.ts';
import { FILE_DEVICE_BLOCKS, FILE_LOG_BLOCKS, FILE_STORE_ID, FILE_WORKLOAD } from './workload.ts';

const [dir, kArg] = process.argv.slice(2);
const killAt = Number(kArg);
const histPath = path.join(dir, 'history.jsonl');
const pendingLines: string[] = [];
let points = 0;

function beforePoint(): void {
  points++;
  if (pendingLines.length) {
    const fd = fs.openSync(histPath, 'a');
    fs.writeSync(fd, pendingLines.join(''));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    pendingLines.length = 0;
  }
  if (points === killAt) process.kill(process.pid, 'SIGKILL');
}

const files = [0, 1].map((i) => path.join(dir, `disk${i}.img`));
const raw = await Promise.all(files.map((f, i) => FileBlockDevice.create(f, { numBlocks: FILE_DEVICE_BLOCKS, label: { storeId: FILE_STORE_ID, index: i as 0 | 1 } })));
// Formatting is setup, not crash-tested: done on the raw devices, then closed and reopened.
const setup = await ReplicatedDisk.open(raw[0], raw[1]);
await formatLog(setup, { logBlocks: FILE_LOG_BLOCKS });
await setup.close();
fs.writeFileSync(histPath, '');
const devs = await Promise.all(files.map((f) => FileBlockDevice.open(f)));
const counted = devs.map((d) => new CountingDevice(d, beforePoint));
const store = await LogDisk.open(await ReplicatedDisk.open(counted[0], counted[1]));
let id = 0;
for (const op of FILE_WORKLOAD) {
  const myId = id++;
  pendingLines.push(JSON.stringify({ type: 'call', id: myId, client: 0, op }) + '\n');
  const result = await runTxOp(store, op);
  pendingLines.push(JSON.stringify({ type: 'return', id: myId, result }) + '\n');
}
await store.close();
beforePoint();
process.stdout.write(`points=${points - 1}\n`);
