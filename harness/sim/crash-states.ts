import type { DiskLabel } from '../../src/device/disk-label.ts';
import { BlockMap } from './block-map.ts';
import type { BlockStore } from './block-store.ts';
import { Prng } from './prng.ts';
import { LABEL_ADDR, type DeviceSnapshot, type DiskImage } from './sim-device.ts';
import type { PointInfo } from './world.ts';

/**
 * The power-loss models.
 * - sync: every write issued before the crash point is durable (the model of the papers).
 * - buffered: per device, each address keeps its durable value or any one of the values
 *   written to it since the device's last completed flush, independently per address.
 * - torn: like sync, but the block write at the crash point is cut short and leaves a
 *   mix of old and new 512-byte sectors.
 * - fail: a disk fails (fail-stop) during the workload, before or during recovery, or
 *   after recovery (handled by the explorer, not here).
 */
export type CrashModel = 'sync' | 'buffered' | 'torn' | 'fail';
export const ALL_MODELS: readonly CrashModel[] = ['sync', 'buffered', 'torn', 'fail'];

export const SECTOR_BYTES = 512;

export interface CrashBounds {
  /** Buffered: enumerate every combination while the pending writes number at most this. */
  exhaustivePending: number;
  /** Buffered: states sampled (seeded) beyond that, besides "all kept" and "all lost". */
  sampled: number;
}

export const DEFAULT_BOUNDS: CrashBounds = { exhaustivePending: 10, sampled: 24 };

export interface CrashState {
  /** Replayable description of the choice, e.g. "d0@3=new1 d1@3=old". */
  readonly choice: string;
  readonly images: DiskImage[];
}

export interface CrashStateSet {
  readonly states: CrashState[];
  /** False when the buffered states were sampled rather than enumerated. */
  readonly exhaustive: boolean;
}

/** Every device as it reads now (sync model). */
export function latestImages(snaps: readonly DeviceSnapshot[]): DiskImage[] {
  return snaps.map((s) => ({ blocks: s.latest, label: s.latestLabel, failed: s.failed }));
}

export interface Slot {
  device: number;
  addr: number;
  /** Option 0 is the durable value; the rest are the pending values, deduplicated. */
  options: (Uint8Array | DiskLabel | undefined)[];
}

/** Byte equality without wrapping either side in a Buffer (blocks from one BlockStore are mostly the same object). */
const bytesEqual = Buffer.prototype.equals as (this: Uint8Array, other: Uint8Array) => boolean;

function sameOption(a: Uint8Array | DiskLabel | undefined, b: Uint8Array | DiskLabel | undefined): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual.call(a, b);
  if (a === undefined || b === undefined || a instanceof Uint8Array || b instanceof Uint8Array) return a === b;
  return a.storeId === b.storeId && a.index === b.index && a.epoch === b.epoch;
}

function slotsOf(snaps: readonly DeviceSnapshot[]): { slots: Slot[]; pendingWrites: number } {
  const slots: Slot[] = [];
  let pendingWrites = 0;
  snaps.forEach((s, device) => {
    const byAddr = new Map<number, Slot>();
    for (const p of s.pending) {
      pendingWrites++;
      let slot = byAddr.get(p.addr);
      if (!slot) {
        slot = { device, addr: p.addr, options: [p.addr === LABEL_ADDR ? s.durableLabel : s.durable.get(p.addr)] };
        byAddr.set(p.addr, slot);
        slots.push(slot);
      }
      const v = p.addr === LABEL_ADDR ? p.label : p.data;
      let known = false;
      for (let i = 0; i < slot.options.length && !known; i++) known = sameOption(slot.options[i], v);
      if (!known) slot.options.push(v);
    }
  });
  return { slots: slots.filter((s) => s.options.length > 1), pendingWrites };
}

export function buildImages(snaps: readonly DeviceSnapshot[], slots: Slot[], pick: number[]): DiskImage[] {
  return snaps.map((s, device) => {
    let blocks: ReadonlyMap<number, Uint8Array> = s.durable;
    let label = s.durableLabel;
    let copy: BlockMap | undefined;
    slots.forEach((slot, i) => {
      if (slot.device !== device || pick[i] === 0) return;
      const v = slot.options[pick[i]];
      if (slot.addr === LABEL_ADDR) label = v as DiskLabel;
      else {
        if (copy === undefined) blocks = copy = BlockMap.of(s.durable).copy();
        copy.set(slot.addr, v as Uint8Array);
      }
    });
    return { blocks, label, failed: s.failed };
  });
}

export function describe(slots: Slot[], pick: number[]): string {
  const parts = slots.map((s, i) => `d${s.device}@${s.addr === LABEL_ADDR ? 'label' : s.addr}=${pick[i] === 0 ? 'old' : `new${pick[i]}`}`);
  return parts.length ? parts.join(' ') : 'all-durable';
}

/**
 * Buffered model, as choices: the slots (device, address, options) and, per crash state,
 * which option each slot keeps (0: the durable value). The explorer keys states from
 * this without building their images; bufferedStates builds them.
 */
export interface BufferedPlan {
  readonly slots: Slot[];
  readonly picks: number[][];
  readonly exhaustive: boolean;
}

export function bufferedPlan(snaps: readonly DeviceSnapshot[], seed: number, bounds: CrashBounds = DEFAULT_BOUNDS): BufferedPlan {
  const { slots, pendingWrites } = slotsOf(snaps);
  const picks: number[][] = [];
  if (pendingWrites <= bounds.exhaustivePending) {
    const pick = slots.map(() => 0);
    for (;;) {
      picks.push(pick.slice());
      let i = 0;
      while (i < slots.length && ++pick[i] === slots[i].options.length) pick[i++] = 0;
      if (i === slots.length) break;
    }
    return { slots, picks, exhaustive: true };
  }
  const prng = new Prng(seed);
  const seen = new Set<string>();
  const add = (pick: number[]) => {
    const key = pick.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    picks.push(pick);
  };
  add(slots.map(() => 0));
  add(slots.map((s) => s.options.length - 1));
  for (let i = 0; i < bounds.sampled; i++) add(slots.map((s) => prng.int(s.options.length)));
  return { slots, picks, exhaustive: false };
}

/** Buffered model: which subsets of pending writes survive. */
export function bufferedStates(snaps: readonly DeviceSnapshot[], seed: number, bounds: CrashBounds = DEFAULT_BOUNDS): CrashStateSet {
  const { slots, picks, exhaustive } = bufferedPlan(snaps, seed, bounds);
  return { states: picks.map((pick) => ({ choice: describe(slots, pick), images: buildImages(snaps, slots, pick) })), exhaustive };
}

/**
 * Torn model, as choices: the write cut short (device, address), the images as they read
 * before it, and each mix of old and new sectors it may leave, named by its mask.
 */
export interface TornPlan {
  readonly device: number;
  readonly addr: number;
  readonly base: DiskImage[];
  readonly mixes: { readonly name: string; readonly block: Uint8Array }[];
}

export function tornPlan(snaps: readonly DeviceSnapshot[], next: PointInfo | undefined, seed: number, halvesOnly = false, store?: BlockStore): TornPlan | undefined {
  if (!next || next.kind !== 'write' || next.data === undefined || next.addr === undefined) return undefined;
  const base = latestImages(snaps);
  const dev = base[next.device];
  const size = next.data.length;
  const sectors = size / SECTOR_BYTES;
  if (sectors < 2) return undefined;
  const old = dev.blocks.get(next.addr) ?? new Uint8Array(size);
  const masks: { name: string; isNew: (i: number) => boolean }[] = [];
  for (let n = 1; n < sectors; n++) if (!halvesOnly || n * 2 === sectors) masks.push({ name: `first${n}new`, isNew: (i) => i < n });
  for (let n = 1; n < sectors; n++) if (!halvesOnly || n * 2 === sectors) masks.push({ name: `last${n}new`, isNew: (i) => i >= sectors - n });
  const prng = new Prng(seed);
  for (let r = 0; r < 2 && sectors > 2 && !halvesOnly; r++) {
    const bits = Array.from({ length: sectors }, () => prng.int(2) === 1);
    if (bits.every((b) => b) || bits.every((b) => !b)) continue;
    masks.push({ name: `mask${bits.map((b) => (b ? 1 : 0)).join('')}`, isNew: (i) => bits[i] });
  }
  const mixes = masks.map((m) => {
    const build = () => {
      const mixed = new Uint8Array(size);
      for (let i = 0; i < sectors; i++) {
        const src = m.isNew(i) ? next.data! : old;
        mixed.set(src.subarray(i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES), i * SECTOR_BYTES);
      }
      return mixed;
    };
    return { name: m.name, block: store ? store.mix(old, next.data!, m.name, build) : build() };
  });
  return { device: next.device, addr: next.addr, base, mixes };
}

/** The images a torn plan's i-th mix leaves. */
export function tornImages(plan: TornPlan, i: number): DiskImage[] {
  const dev = plan.base[plan.device];
  const blocks = BlockMap.of(dev.blocks).copy().set(plan.addr, plan.mixes[i].block);
  const images = plan.base.slice();
  images[plan.device] = { ...dev, blocks };
  return images;
}

export function tornChoice(plan: TornPlan, i: number): string {
  return `torn d${plan.device}@${plan.addr} ${plan.mixes[i].name}`;
}

/** Torn model: the block write at the crash point leaves a mix of old and new sectors. */
export function tornStates(snaps: readonly DeviceSnapshot[], next: PointInfo | undefined, seed: number, halvesOnly = false, store?: BlockStore): CrashState[] {
  const plan = tornPlan(snaps, next, seed, halvesOnly, store);
  if (!plan) return [];
  return plan.mixes.map((_, i) => ({ choice: tornChoice(plan, i), images: tornImages(plan, i) }));
}
