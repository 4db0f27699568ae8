// Tests read response bodies as loosely typed JSON; the chai assertions are the type checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TestJson = any;

declare global {
  interface Response {
    json(): Promise<TestJson>;
  }
}

export {};
