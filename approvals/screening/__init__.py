"""部门筛查预警: the departments' data compared with the whole roster.

Six department feeds (医保, 教育, 残联, 民政, 应急, 人社; `feeds`) are read and validated into
columnar frames, matched to households through the members' ID numbers (`roster`), and the
rules of config.yaml (`rules`) are applied over them at once (`engine`, Polars: never row by
row in Python). What a hit does to the record (a case opened with its evidence, evidence added
to an open case, a household listed for its cadre's next visit) is `outcomes`; the frames a run
read are kept (`store`) so that the county's 比对审定 can show every department record of a
household. The Prefect flow that drives a run is workflows/screening.py.
"""
