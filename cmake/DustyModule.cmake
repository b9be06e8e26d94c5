# dusty_module(<name> SOURCES ... DEPENDS ...): one library per module folder,
# exported as dusty::<name>, headers installed under include/dusty/<name>.
function(dusty_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPENDS" ${ARGN})
  add_library(dusty_${name} ${M_SOURCES})
  add_library(dusty::${name} ALIAS dusty_${name})
  set_target_properties(dusty_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME dusty_${name})
  target_compile_options(dusty_${name} PRIVATE ${DUSTY_WARNINGS})
  target_include_directories(dusty_${name} PUBLIC
    $<BUILD_INTERFACE:${DUSTY_INCLUDE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(dusty_${name} PUBLIC ${M_DEPENDS})
  target_include_directories(dusty_${name} PRIVATE ${CMAKE_SOURCE_DIR})
  install(TARGETS dusty_${name} EXPORT dusty-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dusty/${name}
    FILES_MATCHING PATTERN "*.hpp")
endfunction()
