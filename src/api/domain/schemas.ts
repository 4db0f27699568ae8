/**
 * The API's request and response shapes. Validation, TypeScript types and the OpenAPI document
 * are all derived from these schemas, so they cannot drift apart.
 */
import { z } from 'zod';

/** Record ids: positive integers that a JSON number (an IEEE 754 double) holds exactly. */
export const Id = z.int().min(1).max(Number.MAX_SAFE_INTEGER).meta({ id: 'Id' });
const id = Id;

/**
 * Money travels as a decimal number of currency units with at most two decimal places and is
 * stored as integer cents. The rule is JSON Schema's `multipleOf: 0.01` read exactly: the value
 * is the double nearest to some whole number of cents (so 0.57 passes, 0.5700000000000001 and
 * 1e-7 do not). zod's own multipleOf tolerates float noise, hence the explicit check.
 */
const money = z
  .number()
  .positive()
  .max(1_000_000_000)
  .refine(isWholeCents, { message: 'must have at most two decimal places' })
  .meta({ multipleOf: 0.01 });

function isWholeCents(value: number): boolean {
  return Math.round(value * 100) / 100 === value;
}

/**
 * Characters JavaScript's String.prototype.trim removes (ECMA-262 WhiteSpace and
 * LineTerminator), listed one by one: `\s` differs between regex engines, and the document's
 * pattern must mean the same to every client as it does here.
 */
const WHITESPACE = '\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
const NOT_BLANK = new RegExp(`[^${WHITESPACE}]`);

/**
 * Free text between `min` and `max` characters, counted as JSON Schema's minLength and
 * maxLength count them: in Unicode code points (JSON Schema Validation 2020-12 §6.3), not
 * UTF-16 units as `String.length` does, so an emoji counts once.
 */
function text(min: number, max: number) {
  return z
    .string()
    .refine(
      (value) => {
        const length = [...value].length; // iterating a string yields code points
        return length >= min && length <= max;
      },
      { message: `must be ${min} to ${max} characters long` },
    )
    .meta({ minLength: min, maxLength: max });
}

/**
 * Email addresses: an RFC 5321 mailbox (the `email` format of JSON Schema) restricted to
 * ASCII: a dot-string local part of at most 64 characters, a domain of letter-digit-hyphen
 * labels of at most 63 characters ending in a letters-only top-level label, 254 characters in
 * all. Two dots in a row are refused too, which `format: email` says but the pattern does not
 * (the pattern avoids look-ahead, which schema-driven generators handle poorly).
 */
const EMAIL =
  /^[A-Za-z0-9_'+-](?:[A-Za-z0-9_'+.-]{0,62}[A-Za-z0-9_'+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

const email = z
  .email({ pattern: EMAIL })
  .max(254)
  .refine((value) => !value.includes('..'), { message: 'must not contain two dots in a row' })
  .meta({
    description:
      'An RFC 5321 mailbox in ASCII (JSON Schema `format: email`): local part of at most 64 ' +
      'characters without two dots in a row, a domain of labels of at most 63 characters.',
  });

export const NewUser = z
  .object({
    username: z
      .string()
      .min(3)
      .max(32)
      .regex(/^[a-z0-9_]+$/, 'may contain only lowercase letters, digits and underscores'),
    email,
  })
  .strict()
  .meta({ id: 'NewUser', examples: [{ username: 'ada_l', email: 'ada@example.com' }] });

export const User = NewUser.extend({ id, createdAt: z.iso.datetime() }).meta({ id: 'User' });

export const NewProduct = z
  .object({
    name: text(1, 200)
      .regex(NOT_BLANK, 'must contain a character other than whitespace')
      .trim()
      .meta({ description: 'Surrounding whitespace is removed before the name is stored' }),
    price: money.meta({
      description:
        'Unit price in currency units, at most two decimal places: `multipleOf` applies to the ' +
        'decimal number as written (0.57 is valid; validators that divide binary floating-point ' +
        'values may wrongly refuse it)',
    }),
    description: text(0, 2000).default(''),
    stock: z.number().int().min(0).max(1_000_000_000),
  })
  .strict()
  .meta({
    id: 'NewProduct',
    // Validators that divide binary floats (Redocly's among them) count some two-decimal
    // prices, 19.99 for one, as no multiple of 0.01 (see the price description); 24.5 is not one.
    examples: [{ name: 'Teapot', price: 24.5, description: 'Holds one litre', stock: 25 }],
  });

export const Product = z
  .object({
    id,
    name: z.string(),
    price: z.number(),
    description: z.string(),
    stock: z.number().int(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Product' });

export const NewOrder = z
  .object({
    userId: id,
    items: z
      .array(z.object({ productId: id, quantity: z.number().int().min(1).max(10_000) }).strict())
      .min(1)
      .max(100),
  })
  .strict()
  .meta({ id: 'NewOrder', examples: [{ userId: 1, items: [{ productId: 1, quantity: 2 }] }] });

export const Order = z
  .object({
    id,
    userId: id,
    items: z.array(
      z.object({
        productId: id,
        name: z.string(),
        quantity: z.number().int(),
        unitPrice: z.number(),
      }),
    ),
    total: z.number().meta({ description: 'Computed by the server from the unit prices' }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Order' });

/** Page size: `limit` query parameter. */
export const Limit = z.int().min(1).max(500).default(50);
/** Records skipped before the page: `offset` query parameter. */
export const Offset = z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);

/**
 * Query and path values arrive as text. Only an integer written in plain decimal (no sign `+`,
 * no leading zeros, no exponent, no fraction, no spaces) becomes a number; anything else is
 * handed on as text, which the number schema then refuses.
 */
function integerFromText<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && /^(0|-?[1-9][0-9]*)$/.test(value) ? Number(value) : value,
    schema,
  );
}

/** The list query: unknown parameters and repeated ones are refused. */
export const PageQuery = z
  .object({ limit: integerFromText(Limit), offset: integerFromText(Offset) })
  .strict();

export const IdParam = integerFromText(Id);

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const Health = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    uptimeSeconds: z.number(),
  })
  .meta({ id: 'Health' });

export const Analytics = z
  .object({
    counts: z.object({ users: z.number(), products: z.number(), orders: z.number() }),
    totalRevenue: z.number(),
    lastFiveMinutes: z.object({ orders: z.number(), revenue: z.number() }),
    topProducts: z.array(
      z.object({ productId: id, name: z.string(), unitsSold: z.number(), revenue: z.number() }),
    ),
    lowStockProducts: z.array(z.object({ productId: id, name: z.string(), stock: z.number() })),
  })
  .meta({ id: 'Analytics' });

export type NewUser = z.infer<typeof NewUser>;
export type User = z.infer<typeof User>;
export type NewProduct = z.infer<typeof NewProduct>;
export type Product = z.infer<typeof Product>;
export type NewOrder = z.infer<typeof NewOrder>;
export type Order = z.infer<typeof Order>;
export type PageQuery = z.infer<typeof PageQuery>;
export type Analytics = z.infer<typeof Analytics>;
