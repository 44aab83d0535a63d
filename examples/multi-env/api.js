// One worker, two environments: the code is shared, the bindings differ per environment.
export default {
  async fetch(request, env) {
    const auth = (await env.UPSTREAM_TOKEN.get()) ? "configured" : "missing";
    return Response.json({ environment: env.ENVIRONMENT, upstream: env.UPSTREAM_URL, auth });
  },
};
