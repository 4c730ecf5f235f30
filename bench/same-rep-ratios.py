#!/usr/bin/env python3
# Medians (min-max) per peer and the median of same-repetition ratios apus/postfix and apus/chasquid, from
# run-all.sh result lines (also p90 latency, which summarize.py does not show).
#   python3 bench/same-rep-ratios.py RESULTS.txt   (pool several runs by relabelling rep= first)
import re,sys,statistics as st
rows={}
for line in open(sys.argv[1]):
    if not line.startswith('RESULT'): continue
    kv=dict(re.findall(r'(\w+)=(\S+)',line))
    if kv['rep']=='fsync': continue
    m=kv['mode']
    if m=='throughput': keys=[('c%s'%kv['c'],float(kv['msgs_per_s']))]
    elif m=='latency': keys=[('lat_med',float(kv['median_ms'])),('lat_p90',float(kv['p90_ms'])),('lat_p99',float(kv['p99_ms']))]
    elif m=='relay': keys=[('relay',float(kv['delivered_per_s'])),('relay_s',float(kv['all_delivered_s']))]
    elif m=='idle': keys=[('idle_rss',float(kv['rss_per_conn_kb']))]
    for k,v in keys: rows.setdefault(k,{}).setdefault(kv['rep'],{})[kv['peer']]=v
for k in ['c1','c10','c50','lat_med','lat_p90','lat_p99','relay','relay_s']:
    d=rows[k]; reps=sorted(d)
    out=[k]
    for p in ['chasquid','postfix','apus']:
        vals=[d[r][p] for r in reps]; out.append('%s %.1f (%.1f-%.1f)'%(p,st.median(vals),min(vals),max(vals)))
    rp=[d[r]['apus']/d[r]['postfix'] for r in reps]; rc=[d[r]['apus']/d[r]['chasquid'] for r in reps]
    out.append('a/p %.2f [%s]'%(st.median(rp),' '.join('%.2f'%x for x in rp)))
    out.append('a/c %.2f'%st.median(rc))
    print(' | '.join(out))
