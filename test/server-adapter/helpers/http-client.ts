/** A small fetch wrapper for the HTTP API tests: status, parsed JSON (if any) and raw text. */
export interface HttpAnswer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export function httpClient(base: () => string, defaultToken: string) {
  const call = async (method: string, path: string, body?: unknown, token: string | null = defaultToken, extra: Record<string, string> = {}): Promise<HttpAnswer> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const r = await fetch(base() + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json, text, headers: r.headers };
  };
  /** PUT /artifacts with raw bytes. */
  const upload = async (bytes: Uint8Array): Promise<HttpAnswer> => {
    const r = await fetch(base() + '/artifacts', { method: 'PUT', headers: { authorization: `Bearer ${defaultToken}`, 'content-type': 'application/octet-stream' }, body: bytes });
    const text = await r.text();
    return { status: r.status, json: JSON.parse(text), text, headers: r.headers };
  };
  return { call, upload };
}
