/** Where the pages that mailed links open live: /self-service/verify-email, /reset-password, /confirm-email, /forgot-password. */
export const SELF_SERVICE_PATH = '/self-service';
