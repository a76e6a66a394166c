/**
 * A short tour of the replicated disk on real files: open a pair in a temp directory,
 * write and read blocks, fail one disk, and show that reads still come back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileBlockDevice } from './device/file-block-device.ts';
import { ReplicatedDisk } from './replicated/replicated-disk.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twindisk-demo-'));
const say = (s: string) => console.log(s);
try {
  const f0 = path.join(dir, 'disk0.img');
  const f1 = path.join(dir, 'disk1.img');
  const d0 = await FileBlockDevice.create(f0, { numBlocks: 256, label: { index: 0 } });
  const d1 = await FileBlockDevice.create(f1, { numBlocks: 256, label: { storeId: d0.label.storeId, index: 1 } });
  const disk = await ReplicatedDisk.open(d0, d1);
  say(`opened a replicated pair of ${disk.numBlocks} blocks of ${disk.blockSize} bytes in ${dir}`);

  const block = (text: string) => {
    const b = Buffer.alloc(disk.blockSize);
    b.write(text);
    return b;
  };
  await Promise.all([0, 1, 2, 3].map((a) => disk.write(a, block(`hello from block ${a}`))));
  await disk.flush();
  say('wrote blocks 0..3 to both disks and flushed');

  d0.markFailed('disk 0 pulled out for the demo');
  const back = Buffer.from(await disk.read(2)).toString('utf8').replace(/\0+$/, '');
  say(`failed disk 0; read block 2 from the survivor: "${back}"`);
  await disk.write(4, block('written while degraded'));
  await disk.flush();
  say(`status: ${JSON.stringify(disk.status())}`);
  await disk.close();

  // After a restart disk 1 carries the higher epoch, so it is the source of truth even if
  // disk 0 comes back with old data.
  const again = await ReplicatedDisk.open(await FileBlockDevice.open(f0), await FileBlockDevice.open(f1));
  const b4 = Buffer.from(await again.read(4)).toString('utf8').replace(/\0+$/, '');
  say(`reopened both files: block 4 reads "${b4}"; status ${JSON.stringify(again.status())}`);
  await again.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
