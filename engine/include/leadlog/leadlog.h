// Umbrella header: everything an embedding program needs.
#pragma once

#include "leadlog/csv.h"
#include "leadlog/options.h"
#include "leadlog/status.h"
#include "leadlog/store.h"
#include "leadlog/types.h"
