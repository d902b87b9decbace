/** JSON schemas shared by routes: they validate input and feed /openapi.json. */
export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;

export const storedObjectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    key: { type: 'string' },
    segment: { type: 'string' },
    filename: { type: 'string' },
    size: { type: 'integer' },
    contentType: { type: 'string' },
    etag: { type: 'string' },
    sha256: { type: ['string', 'null'] },
    owner: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    url: { type: 'string' },
  },
  required: ['id', 'key', 'segment', 'filename', 'size', 'contentType', 'etag', 'url'],
} as const;

export const presignedRequestSchema = {
  type: 'object',
  properties: {
    method: { type: 'string' },
    url: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    fields: { type: 'object', additionalProperties: { type: 'string' } },
    expiresAt: { type: 'string' },
  },
  required: ['method', 'url', 'headers', 'expiresAt'],
} as const;

export const listQuerySchema = {
  type: 'object',
  properties: {
    prefix: { type: 'string', maxLength: 1024 },
    cursor: { type: 'string', maxLength: 2048 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
  additionalProperties: false,
} as const;

export const listResponseSchema = {
  type: 'object',
  properties: { segment: { type: 'string' }, items: { type: 'array', items: storedObjectSchema }, cursor: { type: 'string' } },
  required: ['segment', 'items'],
} as const;

export const idParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const;

/** `?expires=&signature=` of a signed download link (POST /cdn/sign makes them). */
export const signedLinkQuerySchema = {
  type: 'object',
  properties: {
    expires: { type: 'integer', minimum: 0, maximum: 1e12, description: 'Unix seconds; with signature, a signed link' },
    signature: { type: 'string', maxLength: 64, description: 'HMAC-SHA256 of the link (base64url)' },
  },
} as const;

/** Standard error responses for a route, so the OpenAPI document is honest about them. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}
