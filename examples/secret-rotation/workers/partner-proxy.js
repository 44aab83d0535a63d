export default {
  async fetch(request, env) {
    const key = await env.PARTNER_API_KEY.get();
    const upstream = new Request("https://partner.example.com/v1/quote", request);
    upstream.headers.set("Authorization", `Bearer ${key}`);
    return fetch(upstream);
  },
};
