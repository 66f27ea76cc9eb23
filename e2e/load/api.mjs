// The load driver's HTTP calls to the example Worker (sonic-db-api), in one place: paths,
// bodies, auth headers and response shapes.

import { ADMIN_TOKEN } from "../harness.mjs";

/** Headers of every request: the admin's bearer token (SONIC_LOAD_TOKEN overrides it). */
export const headers = {
  authorization: `Bearer ${process.env.SONIC_LOAD_TOKEN ?? ADMIN_TOKEN}`,
};

/** Builds the API of one Worker handle (`w.fetch` from e2e/harness.mjs). */
export function api(w) {
  const call = async (route, method, path, body) => {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const t0 = performance.now();
    const res = await w.fetch(path, init);
    const text = await res.text();
    const ms = performance.now() - t0;
    let json;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { route, status: res.status, body: json, ms };
  };
  return {
    createUser: (u) => call("POST /v1/users", "POST", "/v1/users", u),
    createPosts: (posts) => call("POST /v1/posts (bulk)", "POST", "/v1/posts", posts),
    createPost: (p) => call("POST /v1/posts", "POST", "/v1/posts", p),
    getPost: (id) => call("GET /v1/posts/:id", "GET", `/v1/posts/${encodeURIComponent(id)}`),
    getUser: (id) => call("GET /v1/users/:id", "GET", `/v1/users/${encodeURIComponent(id)}`),
    listPosts: (userId) =>
      call("GET /v1/posts?filters", "GET", `/v1/posts?limit=100&filters[user_id][$eq]=${encodeURIComponent(userId)}`),
    updatePost: (id, fields) => call("PUT /v1/posts/:id", "PUT", `/v1/posts/${encodeURIComponent(id)}`, fields),
    deletePost: (id) => call("DELETE /v1/posts/:id", "DELETE", `/v1/posts/${encodeURIComponent(id)}`),
    deleteUser: (id) => call("DELETE /v1/users/:id (cascade)", "DELETE", `/v1/users/${encodeURIComponent(id)}`),
    /** A raw request, for hostile input. */
    raw: (method, path, body) => call("hostile", method, path, body),
    /** The record read from a response body. */
    record: (res) => res.body?.data,
  };
}
