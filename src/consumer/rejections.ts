/**
 * What a log store's answer to a push means for the records in it.
 *
 * Only an answer that names a record's content, in one of the kinds Loki documents for its
 * validation (pkg/validation/validate.go: `greater_than_max_sample_age`, `too_far_in_future`,
 * `too_far_behind`, `line_too_long`, `structured_metadata_too_large`, ...), is a rejection of
 * records: those records go to the dead-letter topic. Every other answer (network errors,
 * timeouts, 429, 5xx, and also 401/403/404/405/408/413 or a 400 that names no record, which is
 * what a wrong URL, tenant or credentials produce) says the connection to the store is broken:
 * it is retried with backoff without committing, and never drains records into the dead letters.
 */

/** Stable dead-letter reasons (`dlq.reason`, the `error.type` of the dead-letter counter). */
export const REJECTION_REASONS = [
  'too_old',
  'too_new',
  'too_far_behind',
  'out_of_order',
  'line_too_long',
  'structured_metadata_too_large',
  'structured_metadata_too_many',
  'label_value_too_long',
  'label_name_too_long',
  'invalid_labels',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Reasons a message is dead-lettered before any push. */
export const POISON_REASONS = ['undecodable'] as const;

/** Every value `dlq.reason` can take. */
export const DEAD_LETTER_REASONS = [...POISON_REASONS, ...REJECTION_REASONS] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/**
 * Loki's rejection messages, matched case-insensitively anywhere in the answer (a push with
 * several streams joins several messages). Patterns follow the message formats of Loki 3.x;
 * the first that matches gives the reason.
 */
const KINDS: [RegExp, RejectionReason][] = [
  [/has timestamp too old/i, 'too_old'],
  [/has timestamp too new/i, 'too_new'],
  [/entry too far behind/i, 'too_far_behind'],
  [/entry out of order/i, 'out_of_order'],
  [/max entry size '?\d+'? bytes exceeded/i, 'line_too_long'],
  [/structured metadata too large/i, 'structured_metadata_too_large'],
  [/too many structured metadata labels/i, 'structured_metadata_too_many'],
  [/label value too long/i, 'label_value_too_long'],
  [/label name too long/i, 'label_name_too_long'],
  [/error parsing labels|duplicate label name|label names; limit/i, 'invalid_labels'],
];

export type StoreAnswer =
  { kind: 'rejected'; reason: RejectionReason; detail: string } | { kind: 'outage'; cause: string };

/** Longest `dlq.detail` kept; long enough for the cause of any Loki message once labels are cut. */
export const DETAIL_MAX_CHARS = 1000;

/**
 * Loki's messages start with, or end with, the whole stream selector, which can be thousands of
 * characters (a long label value is the very thing `label_value_too_long` is about). Selectors
 * are shortened to their first 40 characters so that what remains names the cause.
 */
export function causeOf(message: string): string {
  const shortened = message
    .replace(/\{[^{}]*\}/g, (selector) =>
      selector.length > 60 ? `${selector.slice(0, 40)}…(${selector.length} chars)}` : selector,
    )
    .replace(/\s+/g, ' ')
    .trim();
  return shortened.length > DETAIL_MAX_CHARS
    ? `${shortened.slice(0, DETAIL_MAX_CHARS - 1)}…`
    : shortened;
}

/**
 * Classifies a store's HTTP answer to a push (status 2xx are not passed here).
 *
 * @param status HTTP status code of the answer
 * @param body the answer's body text (Loki answers plain text)
 * @returns `rejected` with a stable reason and the cause-bearing detail when the answer is a
 *   400 naming a documented record-content kind; `outage` otherwise
 */
export function classifyAnswer(status: number, body: string): StoreAnswer {
  if (status === 400) {
    for (const [pattern, reason] of KINDS) {
      if (pattern.test(body)) return { kind: 'rejected', reason, detail: causeOf(body) };
    }
  }
  const text = causeOf(body).slice(0, 200);
  return { kind: 'outage', cause: text ? `HTTP ${status}: ${text}` : `HTTP ${status}` };
}
