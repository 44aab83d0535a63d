// An ES module worker: reads a Secrets Store secret through its binding.
export default {
  async fetch(request, env) {
    const key = await env.STRIPE_KEY.get();
    const configured = typeof key === "string" && key.length > 0;
    return Response.json({ currency: env.CONFIG.currency, stripe_configured: configured });
  },
};
