/**
 * The API's request and response shapes. Validation, TypeScript types and the OpenAPI document
 * are all derived from these schemas, so they cannot drift apart.
 */
import { z } from 'zod';

const id = z.number().int().positive();

/** Money travels as a decimal number of currency units and is stored as integer cents. */
const money = z
  .number()
  .positive()
  .max(1_000_000_000)
  .refine(hasAtMostTwoDecimals, { message: 'must have at most two decimal places' });

function hasAtMostTwoDecimals(value: number): boolean {
  return Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
}

export const NewUser = z
  .object({
    username: z
      .string()
      .min(3)
      .max(32)
      .regex(/^[a-z0-9_]+$/, 'may contain only lowercase letters, digits and underscores'),
    email: z.email().max(254),
  })
  .strict()
  .meta({ id: 'NewUser' });

export const User = NewUser.extend({ id, createdAt: z.iso.datetime() }).meta({ id: 'User' });

export const NewProduct = z
  .object({
    name: z.string().trim().min(1).max(200),
    price: money.meta({ description: 'Unit price, at most two decimal places' }),
    description: z.string().max(2000).default(''),
    stock: z.number().int().min(0).max(1_000_000_000),
  })
  .strict()
  .meta({ id: 'NewProduct' });

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
  .meta({ id: 'NewOrder' });

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

export const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .strict();

export const IdParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

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
