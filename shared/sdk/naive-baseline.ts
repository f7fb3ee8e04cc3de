/**
 * `localStorage` key where `npm run bench:tabs` hands a login to the web app's naive mode
 * (`/?mode=naive`), the old-app baseline the benchmark compares the extension with.
 */
export const NAIVE_AUTH_KEY = "switchboard-naive-auth";
