# A service of a user's own, built on the development image: find_package(dusty) and link.
# image-test builds tests/package (consumer.cpp and its CMakeLists.txt) with it:
#   podman build -f docker/consumer.Dockerfile tests/package
ARG DEV=dusty-dev:latest
FROM ${DEV}
WORKDIR /work/consumer
COPY CMakeLists.txt consumer.cpp ./
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build
CMD ["/work/consumer/build/consumer"]
