"""ExchangeRate-API open access (https://www.exchangerate-api.com/docs/free): latest rates, no key."""
