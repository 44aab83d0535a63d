export const json = (body, status = 200) => Response.json(body, { status });
export const notFound = () => json({ error: "not found" }, 404);
