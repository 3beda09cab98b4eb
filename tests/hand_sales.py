"""A tiny hand-made warehouse for the channels and team tests (period 2024-01-01 .. 2024-03-31).

Orders (net = qty x price):                                      channel       rep  net
  O0  2023-12-20 C2  P1 1x10 (before the period)                 direct        S2    10
  O1  2024-01-05 C1  P1 2x10                                      direct        S1    20
  O2  2024-02-10 C1  P2 1x30                                      direct        S1    30
  O3  2024-01-20 C2  P1 10x10                                     direct        S2   100
  O13 2024-02-01 C8  P1 1x10                                      direct        S3    10
  O4  2024-01-10 C3  P1 1x10                                      online              10
  O5  2024-01-25 C4  P2 2x30 (one P2 returned 2024-02-05: -30)    online              60
  O11 2024-03-10 C7  P1 1x10 (same day as O12: first by order id) online              10
  O6  2024-03-05 C3  P1 3x10                                      retail              30
  O7  2024-02-01 C5  P2 1x30                                      retail              30
  O12 2024-03-10 C7  P1 1x10                                      retail              10
  O8  2024-01-15 D1  P1 20x10                                     distribution D1    200
  O9  2024-02-15 D2  P1 10x10                                     distribution D2    100
Unit cost: P1 6, P2 12.
"""

from __future__ import annotations

from pathlib import Path

import handmade
from handmade import source_yaml

START, END = "2024-01-01", "2024-03-31"

MAPS = {
    "orders.yaml": handmade.orders_yaml(
        {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel", "rep_id": "rep",
         "distributor_id": "dist"}),
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "traffic.yaml": source_yaml("traffic.csv", "web_traffic", {"date": "date", "traffic_source": "src",
                                                               "visits": "visits", "clicks": "clicks"}),
    "leads.yaml": source_yaml("leads.csv", "leads", {"lead_id": "id", "created_date": "date", "stage": "stage",
                                                     "rep_id": "rep"}),
    "costs.yaml": handmade.COSTS,
    "campaigns.yaml": handmade.CAMPAIGNS,
    "invoices.yaml": source_yaml("invoices.csv", "invoices", {"invoice_id": "id", "order_id": "order",
                                                              "customer_id": "cust", "distributor_id": "dist",
                                                              "invoice_date": "date", "due_date": "due",
                                                              "amount": "amount"}),
    "payments.yaml": source_yaml("payments.csv", "payments", {"payment_id": "id", "invoice_id": "inv",
                                                              "payment_date": "date", "amount": "amount"}),
    "distributors.yaml": source_yaml("distributors.csv", "distributors", {"distributor_id": "id", "name": "name"}),
    "reps.yaml": source_yaml("reps.csv", "reps", {"rep_id": "id", "name": "name", "team": "team"}),
    "targets.yaml": handmade.TARGETS,
}

FILES = {
    "orders.csv": "order,date,cust,channel,rep,dist,sku,qty,price\n"
                  "O0,2023-12-20,C2,direct,S2,,P1,1,10\n"
                  "O1,2024-01-05,C1,direct,S1,,P1,2,10\n"
                  "O2,2024-02-10,C1,direct,S1,,P2,1,30\n"
                  "O3,2024-01-20,C2,direct,S2,,P1,10,10\n"
                  "O13,2024-02-01,C8,direct,S3,,P1,1,10\n"
                  "O4,2024-01-10,C3,online,,,P1,1,10\n"
                  "O5,2024-01-25,C4,online,,,P2,2,30\n"
                  "O11,2024-03-10,C7,online,,,P1,1,10\n"
                  "O6,2024-03-05,C3,retail,,,P1,3,10\n"
                  "O7,2024-02-01,C5,retail,,,P2,1,30\n"
                  "O12,2024-03-10,C7,retail,,,P1,1,10\n"
                  "O8,2024-01-15,D1,distribution,,D1,P1,20,10\n"
                  "O9,2024-02-15,D2,distribution,,D2,P1,10,10\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,x,30,12\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O5,P2,2024-02-05,1,30\n",
    # 200 visits in the period (999 before it)
    "traffic.csv": "date,src,visits,clicks\n2023-12-31,search,999,99\n2024-01-01,search,100,30\n2024-02-01,social,100,20\n",
    # 4 leads in the period, 2 won (contract, repeat); L5 is before the period
    "leads.csv": "id,date,stage,rep\nL1,2024-01-02,contract,S1\nL2,2024-01-03,lost,S1\nL3,2024-02-01,repeat,S2\n"
                 "L4,2024-02-02,lost,S2\nL5,2023-11-01,contract,S1\n",
    "costs.csv": "month,channel,type,amount\n"
                 "2024-01-01,direct,acquisition,10\n2024-02-01,direct,operating,20\n"
                 "2024-01-01,online,acquisition,15\n2024-01-01,online,operating,5\n"
                 "2024-01-01,retail,acquisition,20\n2024-02-01,retail,operating,40\n"
                 "2023-12-01,retail,operating,999\n"
                 "2024-01-01,distribution,acquisition,20\n2024-03-01,distribution,operating,30\n",
    "campaigns.csv": "id,name,channel,start,end,spend\nCP1,春季,online,2024-02-01,2024-02-10,10\n"
                     "CP2,门店,retail,2024-03-01,2024-03-05,10\nCP3,旧,retail,2023-12-01,2023-12-10,999\n",
    "invoices.csv": "id,order,cust,dist,date,due,amount\n"
                    "I1,O8,D1,D1,2024-01-15,2024-02-14,200\n"
                    "I2,O9,D2,D2,2024-02-15,2024-03-15,100\n"
                    "I3,O1,C1,,2024-01-05,2024-02-05,20\n"
                    "I4,O3,C2,,2024-01-20,2024-02-20,100\n"
                    "I5,O2,C1,,2024-02-10,2024-04-10,30\n",
    # PA2 arrives after the period; PA3 after I2's due date; PA4 overpays I3 (capped at 20)
    "payments.csv": "id,inv,date,amount\nPA1,I1,2024-02-10,150\nPA2,I1,2024-04-10,50\nPA3,I2,2024-03-20,40\n"
                    "PA4,I3,2024-02-01,25\nPA5,I4,2024-02-25,50\nPA6,I5,2024-03-01,30\n",
    "distributors.csv": "id,name\nD1,甲经销\nD2,乙经销\n",
    "reps.csv": "id,name,team\nS1,Alice,T1\nS2,Bob,T1\nS3,Carol,T2\nS4,Dan,T2\n",
    # S1 40 (ach 50/40 = 1.25), S2 300 (100/300), S3 8 (10/8 = 1.25, tie with S1), S4 none;
    # team T1 150 (150/150 = 1.0); T2 has no team target (rep targets: 8)
    "targets.csv": "month,level,id,amount\n"
                   "2024-01-01,rep,S1,20\n2024-02-01,rep,S1,20\n"
                   "2023-12-01,rep,S2,999\n2024-01-01,rep,S2,100\n2024-02-01,rep,S2,100\n2024-03-01,rep,S2,100\n"
                   "2024-01-01,rep,S3,8\n"
                   "2024-01-01,team,T1,100\n2024-02-01,team,T1,50\n",
}


def build(tmp: Path) -> Path:
    """Write the CSVs and mappings under ``tmp`` and ingest them; return the warehouse folder."""
    return handmade.build_warehouse(tmp, FILES, MAPS)
