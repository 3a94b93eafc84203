// Types of sign-vobiz-request.mjs, for the test that holds it to the service's own signature code.
/** What Vobiz signs of a URL: `scheme://host[:port]/path`. */
export declare function signedBase(url: string): string;
/** The V3 signature (base64 HMAC-SHA256) of `url` and `nonce` with `token`. */
export declare function signV3(token: string, url: string, nonce: string): string;
