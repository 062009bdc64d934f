import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses the CLI; migrations run through the WebAssembly schema engine
// (src/db/migrations.ts), so no datasource URL is needed here.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
