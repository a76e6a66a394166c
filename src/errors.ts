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
  constructor(message = 'both disks of the replicated disk have failed') {
    super(message);
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

// ---- mail store (src/mail) ----

/** A user name that is not a valid mailbox name (see src/mail/user-name.ts). */
export class InvalidUserNameError extends TwindiskError {
  constructor(message: string) {
    super('ERR_INVALID_USER', message);
  }
}

/** A well-formed user name that has no mailbox in the store. */
export class UnknownUserError extends TwindiskError {
  constructor(user: string) {
    super('ERR_UNKNOWN_USER', `no mailbox for user ${JSON.stringify(user)}`);
  }
}

/** A message longer than the store's configured limit. */
export class MessageTooLargeError extends TwindiskError {
  constructor(message: string) {
    super('ERR_MESSAGE_TOO_LARGE', message);
  }
}

/** A message id that is not in the mailbox (never delivered, or already deleted). */
export class UnknownMessageError extends TwindiskError {
  constructor(user: string, id: unknown) {
    super('ERR_UNKNOWN_MESSAGE', `no message ${String(id)} in the mailbox of ${JSON.stringify(user)}`);
  }
}

/** delete() or unlock() on a mailbox that is not locked by pickup(). */
export class MailboxNotLockedError extends TwindiskError {
  constructor(user: string) {
    super('ERR_NOT_LOCKED', `the mailbox of ${JSON.stringify(user)} is not locked (call pickup first)`);
  }
}

/** tryPickup() on a mailbox another reader holds. */
export class MailboxLockedError extends TwindiskError {
  constructor(user: string) {
    super('ERR_MAILBOX_LOCKED', `the mailbox of ${JSON.stringify(user)} is locked by another reader`);
  }
}

/** No room left: no free blocks for the message, no free index slot, or no free user slot. */
export class StoreFullError extends TwindiskError {
  constructor(message: string) {
    super('ERR_STORE_FULL', message);
  }
}

/** A disk image another live process (or this one) has open. */
export class LockedError extends TwindiskError {
  constructor(message: string) {
    super('ERR_LOCKED', message);
  }
}
