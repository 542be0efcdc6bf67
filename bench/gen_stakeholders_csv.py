#!/usr/bin/env python3
"""Writes a stakeholders CSV for `crm-api import` to stdout, streaming:
  bench/gen_stakeholders_csv.py ROWS [SEED] > stakeholders.csv
Every row is valid and its e-mail unique; about a third carry tags, an
address and a consent, so the import writes every side table."""
import csv
import random
import sys

rows = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
kinds = ["customer", "supplier", "investor", "employee", "partner"]
stages = ["prospect", "lead", "customer", "repeat_customer", "advocate"]
segments = ["gold", "silver", "bronze", ""]
cities = ["Jakarta", "Surabaya", "Bandung", "Medan", "Semarang, Central Java"]
tags = ["vip", "newsletter", "b2b", "retail", "wholesale", "event|2026"]
w = csv.writer(sys.stdout, lineterminator="\r\n")
w.writerow(["kind", "entity_type", "display_name", "email", "phone", "lifecycle_stage", "segment",
            "tags", "address.city", "address.country", "consents.marketing_email", "occupation"])
for i in range(rows):
    third = i % 3 == 0
    w.writerow([
        rng.choice(kinds), "person", f"Person {i:07d}", f"person{i}@bench.example", f"+62 812 {i:07d}",
        rng.choice(stages), rng.choice(segments),
        "|".join(t.replace("|", "\\|") for t in rng.sample(tags, 2)) if third else "",
        rng.choice(cities) if third else "", "ID" if third else "",
        "true" if third else "", "engineer\nand writer" if i % 10 == 0 else "",
    ])
