import type { TxOp } from '../spec/transactional-disk.ts';

/** The file workload the real-kill run crashes at every point: the whole stack, one client. */
export const FILE_WORKLOAD: readonly TxOp[] = [
  { t: 'tx', reads: [], writes: [[0, 1], [1, 2]] },
  { t: 'tx', reads: [0], writes: [[2, 3]] },
  { t: 'read', addr: 2 },
];

export const FILE_DEVICE_BLOCKS = 12;
export const FILE_LOG_BLOCKS = 6;
export const FILE_DATA_BLOCKS = FILE_DEVICE_BLOCKS - 3 - FILE_LOG_BLOCKS;
export const FILE_STORE_ID = '7769e1d15c0ffee00000000000000003';
