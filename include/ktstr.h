/* ktstr.h - everything a scenario file needs. */
#ifndef KTSTR_H
#define KTSTR_H

#include "ktstr/error.h"
#include "ktstr/verdict.h"
#include "ktstr/stats.h"
#include "ktstr/scenario.h"

#endif
