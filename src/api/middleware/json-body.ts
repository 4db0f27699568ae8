import type { Context } from 'koa';
import { ApiError } from '../errors.ts';

/**
 * Reads a JSON request body. The size limit is enforced while streaming, so an oversized body
 * is refused without being buffered whole, whatever Content-Length claims.
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new ApiError(415, 'unsupported_media_type', 'request body must be application/json');
  }
  const declared = Number(ctx.get('Content-Length'));
  if (declared > limitBytes) throw tooLarge(limitBytes);

  const text = await readText(ctx, limitBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError(400, 'invalid_json', 'request body is not valid JSON', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

function readText(ctx: Context, limitBytes: number): Promise<string> {
  const { req } = ctx;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      // Discard the rest instead of destroying the request, which would take the socket (and
      // the 413 response) down with it; the connection closes once the response is sent.
      cleanup();
      req.resume();
      ctx.set('Connection', 'close');
      reject(tooLarge(limitBytes));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = () => {
      cleanup();
      reject(new ApiError(400, 'body_read_failed', 'request body could not be read'));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function tooLarge(limitBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `request body exceeds ${limitBytes} bytes`);
}
