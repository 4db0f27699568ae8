/**
 * Waits for a child process to print a line matching a pattern (e.g. "listening ... port"),
 * while keeping its output drained for its whole life so it never dies of a closed pipe.
 */
import type { ChildProcess } from 'node:child_process';

export function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match) {
        output = '';
        resolve(match);
      } else if (output.length > 64_000) {
        output = output.slice(-8_000);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(
        new Error(`process exited (${code}) before printing ${pattern}: ${output.slice(-2000)}`),
      ),
    );
  });
}
