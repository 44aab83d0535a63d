import { json, notFound } from "./lib/responses.js";
import { findProduct, listProducts } from "./lib/products.js";

export function route(request, env) {
  const { pathname } = new URL(request.url);
  if (pathname === "/") return json({ catalog: env.CATALOG_NAME, features: env.FEATURES });
  if (pathname === "/products") return json(listProducts());
  const match = pathname.match(/^\/products\/([\w-]+)$/);
  const product = match && findProduct(match[1]);
  return product ? json(product) : notFound();
}
