import path from 'node:path';
import { describe, it } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { openStore } from '../src/store/open-store.ts';
import { blockDeviceConformance } from '../src/testing/block-device-conformance.ts';
import { tmpDir } from './helpers/tmp.ts';

blockDeviceConformance({ describe, it }, {
  name: 'MemBlockDevice',
  create: async () => {
    const device = new MemBlockDevice({ numBlocks: 32 });
    return { device, fail: () => device.fail() };
  },
});

blockDeviceConformance({ describe, it }, {
  name: 'MemBlockDevice (512-byte blocks)',
  create: async () => ({ device: new MemBlockDevice({ numBlocks: 16, blockSize: 512 }) }),
});

blockDeviceConformance({ describe, it }, {
  name: 'FileBlockDevice',
  create: async () => {
    const t = tmpDir();
    const file = path.join(t.dir, 'disk.img');
    const device = await FileBlockDevice.create(file, { numBlocks: 32 });
    return {
      device,
      fail: () => device.markFailed('failed on purpose'),
      reopen: async () => {
        await device.close();
        return FileBlockDevice.open(file);
      },
      cleanup: t.cleanup,
    };
  },
});

blockDeviceConformance({ describe, it }, {
  name: 'ReplicatedDisk over memory devices',
  create: async () => {
    const d0 = new MemBlockDevice({ numBlocks: 32 });
    const d1 = new MemBlockDevice({ numBlocks: 32 });
    const device = await ReplicatedDisk.open(d0, d1);
    return { device, fail: () => { d0.fail(); d1.fail(); } };
  },
});

blockDeviceConformance({ describe, it }, {
  name: 'ReplicatedDisk over files',
  create: async () => {
    const t = tmpDir();
    const f0 = path.join(t.dir, 'disk0.img');
    const f1 = path.join(t.dir, 'disk1.img');
    const d0 = await FileBlockDevice.create(f0, { numBlocks: 32, label: { index: 0 } });
    const d1 = await FileBlockDevice.create(f1, { numBlocks: 32, label: { storeId: d0.label.storeId, index: 1 } });
    const device = await ReplicatedDisk.open(d0, d1);
    return {
      device,
      reopen: async () => {
        await device.close();
        return ReplicatedDisk.open(await FileBlockDevice.open(f0), await FileBlockDevice.open(f1));
      },
      cleanup: t.cleanup,
    };
  },
});

blockDeviceConformance({ describe, it }, {
  name: 'transactional store (LogDisk) over a replicated memory pair',
  create: async () => {
    const d0 = new MemBlockDevice({ numBlocks: 64 });
    const d1 = new MemBlockDevice({ numBlocks: 64 });
    const device = await openStore({ devices: [d0, d1], logBlocks: 16 });
    return { device, fail: () => { d0.fail(); d1.fail(); } };
  },
});

blockDeviceConformance({ describe, it }, {
  name: 'transactional store (LogDisk) over files',
  create: async () => {
    const t = tmpDir();
    const dir = path.join(t.dir, 'store');
    const device = await openStore({ dir, numBlocks: 32, logBlocks: 16 });
    return {
      device,
      reopen: async () => {
        await device.close();
        return openStore({ dir });
      },
      cleanup: t.cleanup,
    };
  },
});
