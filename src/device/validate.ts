import { InvalidAddressError, InvalidArgumentError, InvalidBufferError } from '../errors.ts';

/**
 * Argument checks shared by every device, so that a bad call is refused with the same
 * typed error everywhere and before anything is written (the abstract-level pattern:
 * the public surface validates, implementations receive clean input).
 */
export function checkAddress(addr: unknown, numBlocks: number): asserts addr is number {
  if (typeof addr !== 'number' || !Number.isSafeInteger(addr)) {
    throw new InvalidAddressError(`address must be an integer, got ${describe(addr)}`);
  }
  if (addr < 0 || addr >= numBlocks) {
    throw new InvalidAddressError(`address ${addr} is outside 0..${numBlocks - 1}`);
  }
}

export function checkRange(addr: unknown, count: number, numBlocks: number): asserts addr is number {
  checkAddress(addr, numBlocks);
  if (addr + count > numBlocks) {
    throw new InvalidAddressError(`blocks ${addr}..${addr + count - 1} run past the last address ${numBlocks - 1}`);
  }
}

export function checkBlock(data: unknown, blockSize: number): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new InvalidBufferError(`a block must be a Uint8Array or Buffer, got ${describe(data)}`);
  }
  if (data.length !== blockSize) {
    throw new InvalidBufferError(`a block must be ${blockSize} bytes, got ${data.length}`);
  }
}

export function checkGeometry(numBlocks: unknown, blockSize: unknown): void {
  if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 512 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
    throw new InvalidArgumentError(`blockSize must be a power of two from 512 to 1 MiB, got ${describe(blockSize)}`);
  }
  if (typeof numBlocks !== 'number' || !Number.isSafeInteger(numBlocks) || numBlocks < 1 || numBlocks > 2 ** 32) {
    throw new InvalidArgumentError(`numBlocks must be an integer from 1 to 2^32, got ${describe(numBlocks)}`);
  }
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return String(v);
}
