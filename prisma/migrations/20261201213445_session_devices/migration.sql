-- CreateTable
CREATE TABLE "session_devices" (
    "session_uid" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "ip" TEXT NOT NULL,
    "user_agent" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "session_devices_pkey" PRIMARY KEY ("session_uid")
);

-- CreateIndex
CREATE INDEX "session_devices_user_id_idx" ON "session_devices"("user_id");

-- AddForeignKey
ALTER TABLE "session_devices" ADD CONSTRAINT "session_devices_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
