# Unity builds (-DCMAKE_UNITY_BUILD=ON; scripts/test uses one for the
# ASan+UBSan build): each target's sources are compiled a few at a time as one
# translation unit, so the heavy headers (nlohmann/json, Boost.Beast/Asio,
# protobuf, gRPC) are parsed and their templates compiled once per batch
# instead of once per file. That makes the sanitizer build several times
# cheaper. The release and development builds stay one file per unit, so
# they still catch a missing #include.
#
# Sources that cannot share a unit with their neighbours are listed here
# (each would otherwise redefine a name from another file of its target).
# A new clash shows up as a "redefinition" error in the unity build only:
# add the file below (or give the two names distinct spellings).

function(causeway_no_unity dir)
  list(TRANSFORM ARGN PREPEND ${PROJECT_SOURCE_DIR}/${dir}/ OUTPUT_VARIABLE files)
  set_source_files_properties(${files} DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}
                              PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

# The two stores' schemas and queries use the same local names (kMigrations,
# kTokenColumns, ...).
causeway_no_unity(src/store postgres/pg_schema.cc postgres/postgres_store.cc)
# cmd_zone.cc and cmd_admin.cc both have a local Text(json).
causeway_no_unity(src/cli cmd_admin.cc)
# Both proxy xDS client test files have a local Names(request).
causeway_no_unity(src/proxy/xds_client ads_state_test.cc)
