// What nearly every broker test uses: the SDK, the contracts and the fixtures.
global using System.Text;
global using Granary.Client;
global using Granary.Grains;
global using Granary.Tests.Fixtures;
