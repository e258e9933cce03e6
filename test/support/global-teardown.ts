const state = globalThis as typeof globalThis & { __testStack?: { stack?: { stop(): Promise<void> }; users: number } };

export default async function globalTeardown() {
  if (!state.__testStack || --state.__testStack.users > 0) return;
  await state.__testStack.stack?.stop();
  delete state.__testStack;
}
