import assert from 'node:assert/strict';
import type { BlockDevice } from '../device/block-device.ts';

/** The two functions of a test framework that the suite needs (vitest, node:test, mocha, …). */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>): void;
}

export interface ConformanceSubject {
  device: BlockDevice;
  /** Makes the device fail (fail-stop), if the implementation can be failed on purpose. */
  fail?: () => void | Promise<void>;
  /** Closes and opens the same storage again, if it persists (files); used to check durability. */
  reopen?: () => Promise<BlockDevice>;
  /** Removes what create() made (temp files). */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Names the implementation in the test titles. */
  name: string;
  /** Makes a fresh device with at least 16 blocks. */
  create: () => Promise<ConformanceSubject>;
  /** False if a fresh device may hold something other than zeros. Default true. */
  freshReadsZero?: boolean;
}

/**
 * The BlockDevice conformance suite: the behaviour every device in twindisk shares, as
 * one function that any implementation runs with a single call, e.g. with vitest:
 *
 *   import { describe, it } from 'vitest';
 *   blockDeviceConformance({ describe, it }, { name: 'MyDevice', create: async () => ({ device: new MyDevice() }) });
 *
 * It checks behaviour through the interface only, with node:assert, and asserts the
 * stable error codes rather than messages.
 */
export function blockDeviceConformance(test: TestApi, options: ConformanceOptions): void {
  const { describe, it } = test;
  const fresh = options.freshReadsZero ?? true;

  const withDevice = (fn: (s: ConformanceSubject) => Promise<void>) => async () => {
    const s = await options.create();
    try {
      await fn(s);
    } finally {
      await s.device.close().catch(() => undefined);
      await s.cleanup?.();
    }
  };

  const block = (dev: BlockDevice, seed: number): Uint8Array => {
    const b = new Uint8Array(dev.blockSize);
    for (let i = 0; i < b.length; i++) b[i] = (seed * 31 + i * 7) & 0xff;
    return b;
  };

  const rejectsWith = async (p: Promise<unknown>, code: string): Promise<void> => {
    await assert.rejects(p, (err: unknown) => {
      assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`);
      return true;
    });
  };

  describe(`BlockDevice conformance: ${options.name}`, () => {
    it('has a fixed positive geometry', withDevice(async ({ device }) => {
      assert.ok(Number.isSafeInteger(device.blockSize) && device.blockSize > 0);
      assert.ok(Number.isSafeInteger(device.numBlocks) && device.numBlocks >= 16);
    }));

    it('reads back what was written, at the first and last address', withDevice(async ({ device }) => {
      const last = device.numBlocks - 1;
      await device.write(0, block(device, 1));
      await device.write(last, block(device, 2));
      assert.deepEqual(Buffer.from(await device.read(0)), Buffer.from(block(device, 1)));
      assert.deepEqual(Buffer.from(await device.read(last)), Buffer.from(block(device, 2)));
    }));

    if (fresh) {
      it('reads zeros from a block never written', withDevice(async ({ device }) => {
        assert.ok((await device.read(3)).every((x) => x === 0));
      }));
    }

    it('keeps no reference to the caller\'s buffers', withDevice(async ({ device }) => {
      const data = block(device, 3);
      await device.write(5, data);
      data.fill(0xee);
      const got = await device.read(5);
      assert.deepEqual(Buffer.from(got), Buffer.from(block(device, 3)));
      got.fill(0xdd);
      assert.deepEqual(Buffer.from(await device.read(5)), Buffer.from(block(device, 3)));
    }));

    it('overwrites: the last write to an address wins', withDevice(async ({ device }) => {
      await device.write(2, block(device, 4));
      await device.write(2, block(device, 5));
      assert.deepEqual(Buffer.from(await device.read(2)), Buffer.from(block(device, 5)));
    }));

    it('refuses bad addresses with ERR_INVALID_ADDRESS and writes nothing', withDevice(async ({ device }) => {
      await device.write(0, block(device, 6));
      for (const bad of [-1, device.numBlocks, 1.5, Number.NaN, Infinity, '1' as unknown as number, undefined as unknown as number]) {
        await rejectsWith(device.write(bad, block(device, 7)), 'ERR_INVALID_ADDRESS');
        await rejectsWith(device.read(bad), 'ERR_INVALID_ADDRESS');
      }
      assert.deepEqual(Buffer.from(await device.read(0)), Buffer.from(block(device, 6)));
    }));

    it('refuses a block of the wrong size or type with ERR_INVALID_BUFFER and writes nothing', withDevice(async ({ device }) => {
      await device.write(1, block(device, 8));
      const bads: unknown[] = [new Uint8Array(device.blockSize - 1), new Uint8Array(device.blockSize + 1), new Uint8Array(0), 'x'.repeat(device.blockSize), null, new Array(device.blockSize).fill(0)];
      for (const bad of bads) await rejectsWith(device.write(1, bad as Uint8Array), 'ERR_INVALID_BUFFER');
      assert.deepEqual(Buffer.from(await device.read(1)), Buffer.from(block(device, 8)));
    }));

    it('writes consecutive blocks with writev when it has it, and refuses a range past the end whole', withDevice(async ({ device }) => {
      if (!device.writev) return;
      const blocks = [block(device, 9), block(device, 10), block(device, 11)];
      await device.writev(4, blocks);
      for (let i = 0; i < 3; i++) assert.deepEqual(Buffer.from(await device.read(4 + i)), Buffer.from(blocks[i]));
      const last = device.numBlocks - 1;
      await device.write(last, block(device, 12));
      await rejectsWith(device.writev(last, [block(device, 13), block(device, 14)]), 'ERR_INVALID_ADDRESS');
      assert.deepEqual(Buffer.from(await device.read(last)), Buffer.from(block(device, 12)));
    }));

    it('lands every one of many concurrent writes to different addresses', withDevice(async ({ device }) => {
      const n = Math.min(device.numBlocks, 64);
      await Promise.all(Array.from({ length: n }, (_, a) => device.write(a, block(device, 100 + a))));
      await device.flush();
      const got = await Promise.all(Array.from({ length: n }, (_, a) => device.read(a)));
      got.forEach((g, a) => assert.deepEqual(Buffer.from(g), Buffer.from(block(device, 100 + a)), `address ${a}`));
    }));

    it('ends concurrent writes to one address with one of the written values', withDevice(async ({ device }) => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => device.write(7, block(device, 200 + i))));
      const got = Buffer.from(await device.read(7));
      assert.ok(Array.from({ length: 8 }, (_, i) => Buffer.from(block(device, 200 + i))).some((b) => b.equals(got)));
    }));

    it('rejects every call after close() with ERR_CLOSED, and closing twice is harmless', withDevice(async ({ device }) => {
      await device.close();
      await device.close();
      await rejectsWith(device.read(0), 'ERR_CLOSED');
      await rejectsWith(device.write(0, block(device, 1)), 'ERR_CLOSED');
      await rejectsWith(device.flush(), 'ERR_CLOSED');
    }));

    it('keeps flushed writes across close and reopen (when it persists)', withDevice(async (s) => {
      if (!s.reopen) return;
      await s.device.write(9, block(s.device, 300));
      await s.device.flush();
      const again = await s.reopen();
      try {
        assert.deepEqual(Buffer.from(await again.read(9)), Buffer.from(block(again, 300)));
      } finally {
        await again.close();
      }
    }));

    it('rejects every call with ERR_DEVICE_FAILED once failed (when it can be failed)', withDevice(async (s) => {
      if (!s.fail) return;
      await s.device.write(0, block(s.device, 1));
      await s.fail();
      // A layer over failed devices learns of the failure at its next device call, so the
      // write (which must reach a device) comes first; after it, everything rejects.
      await rejectsWith(s.device.write(0, block(s.device, 2)), 'ERR_DEVICE_FAILED');
      await rejectsWith(s.device.read(0), 'ERR_DEVICE_FAILED');
      await rejectsWith(s.device.flush(), 'ERR_DEVICE_FAILED');
    }));
  });
}
