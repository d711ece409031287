#pragma once
// capexsim: Monte Carlo of an AI lab's compute buildout and its funding gap.

#include "capexsim/bands.hpp"
#include "capexsim/compare.hpp"
#include "capexsim/distribution.hpp"
#include "capexsim/engine.hpp"
#include "capexsim/memory.hpp"
#include "capexsim/model.hpp"
#include "capexsim/random.hpp"
#include "capexsim/sampling.hpp"
#include "capexsim/scenario.hpp"
#include "capexsim/sensitivity.hpp"
#include "capexsim/sobol.hpp"
#include "capexsim/statistics.hpp"
#include "capexsim/target.hpp"
#include "capexsim/version.hpp"
