/**
 * Users, products and orders share one REST shape: a paginated list, a lookup by id and a
 * create from a validated JSON body. Only the schema and the create rule differ.
 */
import type Router from '@koa/router';
import type { z } from 'zod';
import { IdParam, PageQuery } from '../domain/schemas.ts';
import { ApiError } from '../errors.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import type { Repository } from '../store/repository.ts';

export interface CollectionRoutes<T extends { id: number }, Input> {
  /** URL path, e.g. `/users`; also the name used in messages. */
  path: string;
  repository: Repository<T>;
  input: z.ZodType<Input>;
  create(input: Input): T;
  bodyLimitBytes: number;
}

export function mountCollection<T extends { id: number }, Input>(
  router: Router,
  { path, repository, input, create, bodyLimitBytes }: CollectionRoutes<T, Input>,
): void {
  const noun = path.slice(1, -1);

  router.get(path, (ctx) => {
    const page = PageQuery.parse(ctx.query);
    const { items, total } = repository.list(page);
    ctx.body = { items, total, limit: page.limit, offset: page.offset };
  });

  router.get(`${path}/:id`, (ctx) => {
    const parsed = IdParam.safeParse(ctx.params['id']);
    if (!parsed.success) {
      throw new ApiError(400, 'invalid_id', `${noun} id must be a positive integer`);
    }
    const record = repository.get(parsed.data);
    if (!record) throw new ApiError(404, 'not_found', `${noun} ${parsed.data} does not exist`);
    ctx.body = record;
  });

  router.post(path, async (ctx) => {
    const body = await readJsonBody(ctx, bodyLimitBytes);
    ctx.status = 201;
    const record = create(input.parse(body));
    ctx.set('Location', `${path}/${record.id}`);
    ctx.body = record;
  });
}
