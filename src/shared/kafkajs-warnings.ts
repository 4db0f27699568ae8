/**
 * kafkajs 2.2.4 arms a timer with a negative delay while no request is throttled; Node >= 23
 * clamps it to 1 ms and prints a TimeoutNegativeWarning on every run. Only that warning is
 * dropped; all others still reach Node's default printer.
 */
export function quietKafkajsTimerWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const print of printers) print(warning);
  });
}
