// What nearly every broker test uses: the SDK, the contracts, the fixtures and the silo process of the load-test tool.
global using System.Text;
global using Granary.Client;
global using Granary.Grains;
global using Granary.Tests.Fixtures;
global using Granary.LoadTest.Targets;
