-- CreateTable
CREATE TABLE "token_issuance" (
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "grant_type" TEXT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "token_issuance_pkey" PRIMARY KEY ("hour","grant_type")
);
