import type { BlockDevice } from '../device/block-device.ts';
import { writeBlocks } from '../device/block-device.ts';
import { invariant } from '../errors.ts';
import {
  decodeRecordHeader,
  readLogBlocks,
  readTail,
  recordCrc,
  writeTail,
  type LogLayout,
  type RecordHeader,
  type TailPointer,
} from './log-format.ts';

/** A record as found by the scan, before it is judged. */
export interface ScannedRecord {
  /** Absolute log position of the header. */
  pos: number;
  header: RecordHeader;
  blocks: Uint8Array[];
  /** The stored checksum matches header fields and data. */
  checksumOk: boolean;
}

/**
 * Log recovery (see log-format.ts for the format): scan the committed records from the
 * tail, write their blocks home in order, flush, then retire them with a new tail pointer
 * and flush again. It writes nothing the log does not already say, and it moves the tail
 * only after the replayed blocks are durable, so a crash at any write inside it is
 * followed by a run that replays the same records again: idempotent and restartable.
 *
 * Seams for deliberately broken variants (the harness subclasses this and plugs it in with
 * `static Replay` on a LogDisk subclass): accept() judges a record (skip the checksum or the
 * seq check), run() orders the steps (retire before replay), replay() and retire() are
 * the two halves.
 */
export class LogReplay {
  readonly device: BlockDevice;
  readonly layout: LogLayout;
  /** Records replayed by the last run(). */
  replayed = 0;

  constructor(device: BlockDevice, layout: LogLayout) {
    this.device = device;
    this.layout = layout;
  }

  /** Runs the whole recovery and returns the tail the log continues from. */
  async run(): Promise<TailPointer> {
    const tail = await readTail(this.device, this.layout);
    const records = await this.scan(tail);
    await this.replay(records);
    await this.device.flush();
    const next = this.nextTail(tail, records);
    await this.retire(next);
    return next;
  }

  /** The committed records from the tail, in order. Bounded by one lap of the log. */
  async scan(tail: TailPointer): Promise<ScannedRecord[]> {
    const out: ScannedRecord[] = [];
    let pos = tail.pos;
    let seq = tail.seq;
    let used = 0;
    while (used < this.layout.logBlocks) {
      const rec = await this.readRecord(pos, this.layout.logBlocks - used);
      if (!rec || !this.accept(rec, seq)) break;
      out.push(rec);
      pos += 1 + rec.header.count;
      used += 1 + rec.header.count;
      seq++;
    }
    return out;
  }

  /** Reads the record at `pos`, if its header is readable and it fits in `room` blocks. */
  async readRecord(pos: number, room: number): Promise<ScannedRecord | undefined> {
    const [h] = await readLogBlocks(this.device, this.layout, pos, 1);
    const header = decodeRecordHeader(h, this.layout);
    if (!header || 1 + header.count > room) return undefined;
    const blocks = await readLogBlocks(this.device, this.layout, pos + 1, header.count);
    return { pos, header, blocks, checksumOk: recordCrc(this.layout, pos, h, blocks) === header.crc };
  }

  /** A record is committed iff it is whole (checksum) and carries the expected seq. */
  protected accept(rec: ScannedRecord, expectedSeq: number): boolean {
    return rec.checksumOk && rec.header.seq === expectedSeq;
  }

  /** Writes every replayed block home, in log order (later records win). Not flushed. */
  protected async replay(records: readonly ScannedRecord[]): Promise<void> {
    for (const rec of records) {
      for (let i = 0; i < rec.header.count; i++) {
        const addr = rec.header.addrs[i];
        invariant(addr < this.layout.dataBlocks, () => `log record ${rec.header.seq} names address ${addr} outside the data region`);
        await writeBlocks(this.device, this.layout.dataStart + addr, [rec.blocks[i]]);
      }
    }
    this.replayed = records.length;
  }

  /** The tail past the replayed records, numbered past anything the log can hold (see log-format.ts). */
  protected nextTail(tail: TailPointer, records: readonly ScannedRecord[]): TailPointer {
    const used = records.reduce((n, r) => n + 1 + r.header.count, 0);
    return {
      pos: (tail.pos + used) % this.layout.logBlocks,
      seq: tail.seq + records.length + this.layout.logBlocks,
      slot: tail.slot === 0 ? 1 : 0,
    };
  }

  /** Makes `next` the durable tail. */
  protected async retire(next: TailPointer): Promise<void> {
    await writeTail(this.device, this.layout, next);
    await this.device.flush();
  }
}
