export function Tokens() { return <p>Coming soon</p>; }
