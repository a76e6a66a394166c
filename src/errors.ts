/**
 * Every error twindisk raises on purpose is a TwindiskError with a stable string `code`.
 * Callers branch on `code`, never on the message, so messages can improve freely.
 * The codes are listed in the README.
 */
export class TwindiskError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An address that is not an integer or lies outside the device. */
export class InvalidAddressError extends TwindiskError {
  constructor(message: string) {
    super('ERR_INVALID_ADDRESS', message);
  }
}

/** A buffer of the wrong type or length for one block. */
export class InvalidBufferError extends TwindiskError {
  constructor(message: string) {
    super('ERR_INVALID_BUFFER', message);
  }
}

/** A bad option or argument other than an address or a block buffer. */
export class InvalidArgumentError extends TwindiskError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** A call on a device or store after close() was called. */
export class ClosedError extends TwindiskError {
  constructor(what = 'device') {
    super('ERR_CLOSED', `the ${what} is closed`);
  }
}

/** The device has failed (fail-stop): every call after the failure rejects with this. */
export class DeviceFailedError extends TwindiskError {
  constructor(message = 'the device has failed', options?: { cause?: unknown }) {
    super('ERR_DEVICE_FAILED', message, options);
  }
}

/**
 * Both mirrors of a replicated disk have failed: no copy of the data is reachable. It is a
 * DeviceFailedError with the same code, because to the layer above the replicated disk is
 * one device, and that device has failed.
 */
export class AllDisksFailedError extends DeviceFailedError {
  constructor() {
    super('both disks of the replicated disk have failed');
  }
}

/** A disk image that is not a twindisk image, is truncated, or has a corrupt header. */
export class BadImageError extends TwindiskError {
  constructor(message: string) {
    super('ERR_BAD_IMAGE', message);
  }
}

/** A twindisk image written by a format version this code does not read. */
export class UnsupportedVersionError extends TwindiskError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_VERSION', message);
  }
}

/** Two disks that do not belong together, or geometry that differs from what is on disk. */
export class MismatchError extends TwindiskError {
  constructor(message: string) {
    super('ERR_MISMATCH', message);
  }
}

/** A transaction that can never fit in the log. */
export class TransactionTooLargeError extends TwindiskError {
  constructor(message: string) {
    super('ERR_TX_TOO_LARGE', message);
  }
}

/** A file or device path that already exists where a new one was to be created. */
export class AlreadyExistsError extends TwindiskError {
  constructor(message: string) {
    super('ERR_EXISTS', message);
  }
}

/**
 * Storage code found its own state inconsistent. This is a bug or undetected corruption,
 * never a user error: the store stops rather than write on top of it.
 */
export class InvariantError extends TwindiskError {
  constructor(message: string) {
    super('ERR_INVARIANT', message);
  }
}

/** Throws InvariantError unless `condition` holds. Used on invariants in storage code. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
