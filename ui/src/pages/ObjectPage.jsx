export function ObjectPage() { return <p>Coming soon</p>; }
export function ObjectCreate() { return <p>Coming soon</p>; }
