export async function runScale(_: unknown): Promise<void> {}
