/**
 * Client-side mirror of Loki's ingestion limits, so that a record Loki would refuse is
 * dead-lettered without a round trip, and the same rule applies whatever store is behind the
 * push URL (VictoriaLogs, for one, has no such rules and would store or silently skip it).
 *
 * Defaults are Loki 3.x's `limits_config` and ingester defaults, except `reject_old_samples_max_age`,
 * which follows this project's loki/loki-config.yaml (168h):
 * - `max_line_size` 256 KB (bytes of the line);
 * - `max_structured_metadata_size` 64 KB (names plus values, bytes), and
 *   `max_structured_metadata_entries_count` 128;
 * - `max_label_value_length` 2048 and `max_label_name_length` 1024 (bytes);
 * - `reject_old_samples_max_age` (too old) and `creation_grace_period` 10 m (too new);
 * - the ingester's unordered-writes rule: an entry more than `max_chunk_age / 2` (2 h / 2 = 1 h)
 *   older than the newest entry of its stream is refused as "entry too far behind". Loki
 *   applies it per stream, whatever `reject_old_samples_max_age` says; each Kafka partition
 *   therefore feeds streams of its own (the `kafka_partition` label), so that one partition
 *   lagging by hours is not measured against another's newest entries.
 */
import { formatLabels } from '../shared/loki-push.ts';
import type { MappedEntry } from './mapping.ts';
import type { RejectionReason } from './rejections.ts';

export interface StoreLimits {
  maxLineBytes: number;
  maxStructuredMetadataBytes: number;
  maxStructuredMetadataEntries: number;
  maxLabelValueBytes: number;
  maxLabelNameBytes: number;
  /** Entries older than now minus this are too old, in ms. */
  rejectOldMaxAgeMs: number;
  /** Entries newer than now plus this are too new, in ms. */
  creationGracePeriodMs: number;
  /** Loki's `max_chunk_age`, in ms: entries more than half of it behind their stream's newest are refused. */
  maxChunkAgeMs: number;
}

export const LOKI_DEFAULT_LIMITS: StoreLimits = {
  maxLineBytes: 256 * 1024,
  maxStructuredMetadataBytes: 64 * 1024,
  maxStructuredMetadataEntries: 128,
  maxLabelValueBytes: 2048,
  maxLabelNameBytes: 1024,
  rejectOldMaxAgeMs: 168 * 3600_000,
  creationGracePeriodMs: 10 * 60_000,
  maxChunkAgeMs: 2 * 3600_000,
};

export interface Refusal {
  reason: RejectionReason;
  detail: string;
}

/** Streams whose newest timestamp is remembered; beyond this the oldest-used are forgotten. */
const MAX_TRACKED_STREAMS = 10_000;

/**
 * Checks entries against the limits, remembering each stream's newest accepted timestamp
 * (as Loki's ingester does) for the "too far behind" rule.
 */
export class LimitChecker {
  readonly #limits: StoreLimits;
  readonly #now: () => number;
  readonly #newest = new Map<string, bigint>();
  /** max_chunk_age / 2 in ns: how far behind its stream's newest an entry may be. */
  readonly #window: bigint;

  /**
   * @param now wall-clock time in ms since the epoch (injected for tests)
   */
  constructor(limits: StoreLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#window = (BigInt(limits.maxChunkAgeMs) * 1_000_000n) / 2n;
  }

  /**
   * @returns the refusal Loki would give this entry, or undefined when it would accept it (in
   *   which case the entry's timestamp counts as its stream's newest from now on)
   */
  check({ labels, entry }: MappedEntry): Refusal | undefined {
    const limits = this.#limits;
    // A line under max_line_size / 4 characters is under it in bytes too (UTF-8 uses at most 4
    // bytes per UTF-16 unit); only longer lines need counting.
    if (entry.line.length * 4 > limits.maxLineBytes) {
      const lineBytes = Buffer.byteLength(entry.line);
      if (lineBytes > limits.maxLineBytes) {
        return {
          reason: 'line_too_long',
          detail: `line of ${lineBytes} bytes exceeds max_line_size ${limits.maxLineBytes}`,
        };
      }
    }
    const metadataRefusal =
      entry.structuredMetadata && this.#checkMetadata(entry.structuredMetadata);
    if (metadataRefusal) return metadataRefusal;
    const labelSet = this.#labelSet(labels);
    if (labelSet.refusal) return labelSet.refusal;
    const { oldestNs, newestNs } = this.#timeBounds();
    const ts = entry.timestampNs;
    if (ts < oldestNs) {
      return {
        reason: 'too_old',
        detail: `timestamp ${iso(ts)} older than reject_old_samples_max_age ${limits.rejectOldMaxAgeMs / 1000} s`,
      };
    }
    if (ts > newestNs) {
      return {
        reason: 'too_new',
        detail: `timestamp ${iso(ts)} beyond creation_grace_period ${limits.creationGracePeriodMs / 1000} s`,
      };
    }
    const { key } = labelSet;
    const newest = this.#newest.get(key);
    if (newest !== undefined && ts < newest - this.#window) {
      return {
        reason: 'too_far_behind',
        detail: `entry too far behind: timestamp ${iso(ts)}, stream's newest ${iso(newest)}, max_chunk_age/2 ${Number(this.#window / 1_000_000_000n)} s`,
      };
    }
    if (newest === undefined || ts > newest) {
      this.#newest.delete(key);
      this.#newest.set(key, ts);
      if (this.#newest.size > MAX_TRACKED_STREAMS) {
        const oldest = this.#newest.keys().next().value;
        if (oldest !== undefined) this.#newest.delete(oldest);
      }
    }
    return undefined;
  }

  #boundsAt = Number.NaN;
  #bounds = { oldestNs: 0n, newestNs: 0n };

  /** The accepted timestamp range in ns, recomputed when the clock's millisecond changes. */
  #timeBounds(): { oldestNs: bigint; newestNs: bigint } {
    const now = this.#now();
    if (now !== this.#boundsAt) {
      const nowNs = BigInt(now) * 1_000_000n;
      this.#boundsAt = now;
      this.#bounds = {
        oldestNs: nowNs - BigInt(this.#limits.rejectOldMaxAgeMs) * 1_000_000n,
        newestNs: nowNs + BigInt(this.#limits.creationGracePeriodMs) * 1_000_000n,
      };
    }
    return this.#bounds;
  }

  #checkMetadata(metadata: Record<string, string>): Refusal | undefined {
    const limits = this.#limits;
    let entries = 0;
    let bytes = 0;
    for (const name in metadata) {
      entries += 1;
      bytes += Buffer.byteLength(name) + Buffer.byteLength(metadata[name] ?? '');
    }
    if (entries > limits.maxStructuredMetadataEntries) {
      return {
        reason: 'structured_metadata_too_many',
        detail: `${entries} structured metadata entries, limit ${limits.maxStructuredMetadataEntries}`,
      };
    }
    if (bytes > limits.maxStructuredMetadataBytes) {
      return {
        reason: 'structured_metadata_too_large',
        detail: `structured metadata of ${bytes} bytes exceeds ${limits.maxStructuredMetadataBytes}`,
      };
    }
    return undefined;
  }

  /**
   * Label sets are shared by the entries of a resource (mapping.ts): each is judged, and its
   * stream's key (its Loki selector) formatted, once.
   */
  readonly #labelSets = new WeakMap<
    Record<string, string>,
    { refusal: Refusal | undefined; key: string }
  >();

  #labelSet(labels: Record<string, string>): { refusal: Refusal | undefined; key: string } {
    let labelSet = this.#labelSets.get(labels);
    if (labelSet === undefined) {
      labelSet = { refusal: this.#judgeLabels(labels), key: formatLabels(labels) };
      this.#labelSets.set(labels, labelSet);
    }
    return labelSet;
  }

  #judgeLabels(labels: Record<string, string>): Refusal | undefined {
    const limits = this.#limits;
    for (const [name, value] of Object.entries(labels)) {
      if (Buffer.byteLength(name) > limits.maxLabelNameBytes) {
        return {
          reason: 'label_name_too_long',
          detail: `label name ${name.slice(0, 60)}… too long`,
        };
      }
      const bytes = Buffer.byteLength(value);
      if (bytes > limits.maxLabelValueBytes) {
        return {
          reason: 'label_value_too_long',
          detail: `label ${name} has a value of ${bytes} bytes, limit ${limits.maxLabelValueBytes}`,
        };
      }
    }
    return undefined;
  }
}

function iso(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : `${ns} ns`;
}
