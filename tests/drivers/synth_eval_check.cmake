# SPDX-License-Identifier: Apache-2.0
# End-to-end check on synthetic palms: `palmvein synth` (then, with AUGMENT, `palmvein augment` with
# those options, e.g. "--rotate;45;--scale;2;--seed;3") then `palmvein eval`, with loose floors.
# Usage: cmake -DPALMVEIN=<tool> -DWORK=<dir> -DPALMS=20 -DSAMPLES=4 -DMAX_EER=0.05 -DMAX_FTA=0.05 [-DAUGMENT=...] -P synth_eval_check.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${PALMVEIN} synth --palms ${PALMS} --samples ${SAMPLES} --out ${WORK}/set --seed 7 --threads 2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "palmvein synth failed (${rc}): ${out}${err}")
endif()
set(manifest ${WORK}/set/MANIFEST.csv)
if(DEFINED AUGMENT)
  execute_process(COMMAND ${PALMVEIN} augment --manifest ${manifest} --out ${WORK}/augmented ${AUGMENT}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "palmvein augment failed (${rc}): ${out}${err}")
  endif()
  set(manifest ${WORK}/augmented/MANIFEST.csv)
endif()
execute_process(COMMAND ${PALMVEIN} eval --manifest ${manifest} --scores ${WORK}/scores.csv
                        --report ${WORK}/report.json --threads 2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "palmvein eval failed (${rc}): ${out}${err}")
endif()
message(STATUS "${out}")
file(READ ${WORK}/report.json report)
string(JSON eer GET "${report}" eer)
string(JSON fta GET "${report}" fta_rate)
string(JSON genuine GET "${report}" genuine_pairs)
if(NOT genuine GREATER 0)
  message(FATAL_ERROR "no genuine pairs in the report")
endif()
if(eer GREATER ${MAX_EER} OR fta GREATER ${MAX_FTA})
  message(FATAL_ERROR "synthetic ${PALMS}x${SAMPLES}: EER ${eer} (max ${MAX_EER}), FTA ${fta} (max ${MAX_FTA})")
endif()
file(REMOVE_RECURSE ${WORK})
