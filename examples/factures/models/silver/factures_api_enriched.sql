-- The seed's clean zone (clean/factures/api/<date>/): the API invoices with their country's region, subregion and
-- first currency, from the countries REST Countries gave (bronze.countries, kept by the `countries` lookup).
SELECT
  f.* EXCLUDE (origine),
  c.region AS country_region,
  c.subregion AS country_subregion,
  -- The first currency, as the seed takes it (REST Countries' `currencies` is an object keyed by ISO code).
  (SELECT first(e.key ORDER BY e.id) FROM json_each(c.currencies) AS e) AS currency_code,
  (SELECT first(e.value ->> 'name' ORDER BY e.id) FROM json_each(c.currencies) AS e) AS currency_name
FROM silver.factures_api AS f
LEFT JOIN bronze.countries AS c ON c.cca2 = f.pays
