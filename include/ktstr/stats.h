/* ktstr/stats.h - reductions that feed claims (placeholder: filled by the core work). */
#ifndef KTSTR_STATS_H
#define KTSTR_STATS_H
#endif
