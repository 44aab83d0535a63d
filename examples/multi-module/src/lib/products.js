const PRODUCTS = [
  { id: "tea", name: "Green tea", price: 4.5 },
  { id: "coffee", name: "Filter coffee", price: 3.0 },
];

export const listProducts = () => PRODUCTS;
export const findProduct = (id) => PRODUCTS.find((p) => p.id === id);
