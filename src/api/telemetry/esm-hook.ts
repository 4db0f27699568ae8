/**
 * The ESM loader hook that lets instrumentations patch ES modules (import-in-the-middle). Without
 * it Koa is never patched and `http.route` silently disappears from the request histogram.
 *
 * It is registered in "include only" mode: the instrumentations announce the modules they patch
 * (koa, http, kafkajs...) and only those are wrapped. Wrapping every module, the default, puts a
 * proxy in front of every import of the application and its dependencies, which costs on every
 * request.
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

/** Registers the hook; call the returned function after the SDK has started. */
export function registerEsmHook(): () => Promise<void> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  // Modules imported before the loader knows the instrumentations' list would stay unpatched.
  return waitForAllMessagesAcknowledged;
}
